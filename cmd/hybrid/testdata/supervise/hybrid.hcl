# The workspace of the supervision tests (supervise_test.go): three null
# builds whose provisioner logs its start and end to a file outside the
# workspace, holding a lock on its build's lock file meanwhile. Every apply
# with a new -var trial=N rebuilds all three; build_timeout stops a build
# that runs past it.

hybrid {
  packer_version = ">= 1.9.0"
  parallelism    = 3
}

variable "trial" {
  type    = string
  default = "0"
}

environment "dev" {
  description = "The only environment."
}

image "linux-a" {
  template = "templates/linux"
  build    = "null.linux-a"
  values   = { trial = var.trial }
}

image "linux-b" {
  template = "templates/linux"
  build    = "null.linux-b"
  values   = { trial = var.trial }
}

image "linux-c" {
  template = "templates/linux"
  build    = "null.linux-c"
  values   = { trial = var.trial }
}
