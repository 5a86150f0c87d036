# examples/dispatch-greeting.yaml as Nomad HCL.
job "dispatch-greeting" {
  type = "batch"

  parameterized {
    payload       = "optional"
    meta_required = ["name"]
  }

  group "greet" {
    task "say" {
      driver = "raw_exec"

      dispatch_payload {
        file = "message.txt"
      }

      config {
        command = "/bin/sh"
        args    = ["-c", "echo \"hello $NOMAD_META_name\"; cat \"$NOMAD_TASK_DIR/message.txt\" 2>/dev/null || true"]
      }

      resources {
        memory = 32
      }
    }
  }
}
