# The counter service of counter-service.yaml as Nomad HCL, with what a Nomad 1.7+ job file
# adds around it: a ui block (shown on the job's page in the web UI) and actions, commands
# run in the running task by name:
#   drover job action -job counter -group counter -task count last-count
job "counter" {
  type = "service"

  ui {
    description = "Prints a counter every second, forever."
    link {
      label = "Nomad's job specification"
      url   = "https://developer.hashicorp.com/nomad/docs/job-specification"
    }
  }

  group "counter" {
    restart {
      attempts = 2
      interval = "30m"
      delay    = "15s"
      mode     = "fail"
    }

    task "count" {
      driver = "raw_exec"

      config {
        command = "/bin/sh"
        args    = ["-c", "i=0; while true; do i=$((i+1)); echo \"count $i\"; sleep 1; done"]
      }

      # The task's own log, read from inside the task: its latest line.
      action "last-count" {
        command = "/bin/sh"
        args    = ["-c", "tail -n 1 \"$NOMAD_ALLOC_DIR/logs/count.stdout.0\""]
      }

      resources {
        cpu    = 100
        memory = 32
      }

      kill_timeout = "10s"

      logs {
        max_files     = 3
        max_file_size = 5
      }
    }
  }
}
