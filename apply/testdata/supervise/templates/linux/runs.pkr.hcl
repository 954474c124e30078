// Builds that log when their provisioner starts and ends, and sleep in
// between: 3 s, or 0.5 s for the first to start when HYBRID_TEST_FAST_FIRST
// is set (mkdir picks it: only one mkdir of a directory succeeds).

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

source "null" "linux-1" {
  communicator = "none"
}

source "null" "linux-2" {
  communicator = "none"
}

source "null" "linux-3" {
  communicator = "none"
}

source "null" "linux-4" {
  communicator = "none"
}

source "null" "linux-5" {
  communicator = "none"
}

source "null" "linux-6" {
  communicator = "none"
}

build {
  sources = [
    "source.null.linux-1",
    "source.null.linux-2",
    "source.null.linux-3",
    "source.null.linux-4",
    "source.null.linux-5",
    "source.null.linux-6",
  ]

  provisioner "shell-local" {
    environment_vars = ["BUILD=${source.name}"]
    inline = [
      "echo \"start $BUILD $(date +%s%N) $$\" >> \"$HYBRID_TEST_RUNS\"",
      "d=3; if [ -n \"$HYBRID_TEST_FAST_FIRST\" ] && mkdir \"$HYBRID_TEST_RUNS.first\" 2>/dev/null; then d=0.5; fi",
      "sleep $d",
      "echo \"end $BUILD $(date +%s%N) $$\" >> \"$HYBRID_TEST_RUNS\"",
    ]
  }
}
