# examples/periodic-report.yaml as Nomad HCL.
job "periodic-report" {
  type = "batch"

  periodic {
    cron             = "* * * * *"
    time_zone        = "Europe/Berlin"
    prohibit_overlap = true
  }

  group "report" {
    task "print" {
      driver = "raw_exec"

      config {
        command = "/bin/sh"
        args    = ["-c", "echo \"report of $(date) by $NOMAD_JOB_ID\""]
      }

      resources {
        memory = 32
      }
    }
  }
}
