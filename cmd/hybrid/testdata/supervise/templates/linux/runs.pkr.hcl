// Builds that log, to the file $HYBRID_TEST_RUNS, "start" and "end" lines
// with the build, the time in nanoseconds, the generation of the hybrid
// that started them ($HYBRID_TEST_GEN) and the shell's PID; in between they
// hold an flock on $HYBRID_TEST_LOCKS/<build>.lock and sleep
// $HYBRID_TEST_SLEEP seconds. A run that finds the lock held by another run
// of its build logs "overlap": two runs of one build at once.

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

variable "trial" {
  type    = string
  default = "0"
}

source "null" "linux-a" {
  communicator = "none"
}

source "null" "linux-b" {
  communicator = "none"
}

source "null" "linux-c" {
  communicator = "none"
}

build {
  sources = ["source.null.linux-a", "source.null.linux-b", "source.null.linux-c"]

  provisioner "shell-local" {
    environment_vars = ["BUILD=${source.name}"]
    inline = [
      "exec 9>\"$HYBRID_TEST_LOCKS/$BUILD.lock\"",
      "if ! flock -n 9; then echo \"overlap $BUILD $(date +%s%N) $HYBRID_TEST_GEN $$\" >> \"$HYBRID_TEST_RUNS\"; fi",
      "echo \"start $BUILD $(date +%s%N) $HYBRID_TEST_GEN $$\" >> \"$HYBRID_TEST_RUNS\"",
      "sleep \"$HYBRID_TEST_SLEEP\"",
      "echo \"end $BUILD $(date +%s%N) $HYBRID_TEST_GEN $$\" >> \"$HYBRID_TEST_RUNS\"",
    ]
  }
}
