// Twenty builds that do nothing but sleep for one second: what is left of
// their wall time is packer's start-up and hybrid's own work.

packer {
  required_version = ">= 1.9.0"
}

// Provisioning stack toggles, set by hybrid; unused here.
variable "enable_ansible" {
  type    = bool
  default = false
}

variable "enable_puppet" {
  type    = bool
  default = false
}

source "null" "linux-sleep-01" {
  communicator = "none"
}

source "null" "linux-sleep-02" {
  communicator = "none"
}

source "null" "linux-sleep-03" {
  communicator = "none"
}

source "null" "linux-sleep-04" {
  communicator = "none"
}

source "null" "linux-sleep-05" {
  communicator = "none"
}

source "null" "linux-sleep-06" {
  communicator = "none"
}

source "null" "linux-sleep-07" {
  communicator = "none"
}

source "null" "linux-sleep-08" {
  communicator = "none"
}

source "null" "linux-sleep-09" {
  communicator = "none"
}

source "null" "linux-sleep-10" {
  communicator = "none"
}

source "null" "linux-sleep-11" {
  communicator = "none"
}

source "null" "linux-sleep-12" {
  communicator = "none"
}

source "null" "linux-sleep-13" {
  communicator = "none"
}

source "null" "linux-sleep-14" {
  communicator = "none"
}

source "null" "linux-sleep-15" {
  communicator = "none"
}

source "null" "linux-sleep-16" {
  communicator = "none"
}

source "null" "linux-sleep-17" {
  communicator = "none"
}

source "null" "linux-sleep-18" {
  communicator = "none"
}

source "null" "linux-sleep-19" {
  communicator = "none"
}

source "null" "linux-sleep-20" {
  communicator = "none"
}

build {
  sources = [
    "source.null.linux-sleep-01",
    "source.null.linux-sleep-02",
    "source.null.linux-sleep-03",
    "source.null.linux-sleep-04",
    "source.null.linux-sleep-05",
    "source.null.linux-sleep-06",
    "source.null.linux-sleep-07",
    "source.null.linux-sleep-08",
    "source.null.linux-sleep-09",
    "source.null.linux-sleep-10",
    "source.null.linux-sleep-11",
    "source.null.linux-sleep-12",
    "source.null.linux-sleep-13",
    "source.null.linux-sleep-14",
    "source.null.linux-sleep-15",
    "source.null.linux-sleep-16",
    "source.null.linux-sleep-17",
    "source.null.linux-sleep-18",
    "source.null.linux-sleep-19",
    "source.null.linux-sleep-20",
  ]

  provisioner "shell-local" {
    inline = ["sleep 1"]
  }
}
