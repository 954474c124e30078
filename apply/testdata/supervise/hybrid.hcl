# Six null builds whose provisioner logs its start and end, with the time
# in nanoseconds, to the file HYBRID_TEST_RUNS names (outside the workspace),
# and sleeps 3 s in between; with HYBRID_TEST_FAST_FIRST set, the first
# provisioner to start sleeps 0.5 s only.

hybrid {
  packer_version = ">= 1.9.0"
}

environment "dev" {
  description = "The only environment."
}

image "linux-1" {
  template = "templates/linux"
  build    = "null.linux-1"
}

image "linux-2" {
  template = "templates/linux"
  build    = "null.linux-2"
}

image "linux-3" {
  template = "templates/linux"
  build    = "null.linux-3"
}

image "linux-4" {
  template = "templates/linux"
  build    = "null.linux-4"
}

image "linux-5" {
  template = "templates/linux"
  build    = "null.linux-5"
}

image "linux-6" {
  template = "templates/linux"
  build    = "null.linux-6"
}
