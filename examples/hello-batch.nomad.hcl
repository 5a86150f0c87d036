# The hello-batch.yaml job again, as Nomad's HCL: a batch job for raw_exec that prints a
# greeting and its allocation id, then exits 0 (done).
# Run it with: drover job run examples/hello-batch.nomad.hcl
job "hello-batch" {
  type = "batch"

  group "hello" {
    task "say-hello" {
      driver = "raw_exec"

      config {
        command = "/bin/sh"
        args    = ["-c", "echo hello from drover; echo \"alloc id: $NOMAD_ALLOC_ID\""]
      }

      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
