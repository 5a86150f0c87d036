# A dynamic host volume (docs/volumes.md): `drover volume create examples/data.volume.hcl`
# makes a directory for it on the node; a job mounts it with
#   volume "data" { type = "host"  source = "data"  sticky = true }
name      = "data"
type      = "host"
plugin_id = "mkdir"

# Where it may be made: judged on the node's attributes, as a job's constraint.
constraint {
  attribute = "${attr.kernel.name}"
  value     = "linux"
}

capability {
  access_mode     = "single-node-writer"
  attachment_mode = "file-system"
}

parameters {
  mode = "0750"
  uid  = 65534 # nobody, whom exec tasks run as
}
