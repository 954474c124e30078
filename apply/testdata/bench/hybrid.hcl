# The apply overhead benchmark's workspace: 20 null builds that each sleep
# one second, in one environment. BenchmarkApplyOverhead applies it with
# parallelism 4 and runs the same 20 packer commands through xargs -P4.

hybrid {
  packer_version = ">= 1.9.0"
  parallelism    = 4
}

environment "bench" {
  description = "The only environment."
}

image "linux-sleep-01" {
  template = "templates/linux"
  build    = "null.linux-sleep-01"
}

image "linux-sleep-02" {
  template = "templates/linux"
  build    = "null.linux-sleep-02"
}

image "linux-sleep-03" {
  template = "templates/linux"
  build    = "null.linux-sleep-03"
}

image "linux-sleep-04" {
  template = "templates/linux"
  build    = "null.linux-sleep-04"
}

image "linux-sleep-05" {
  template = "templates/linux"
  build    = "null.linux-sleep-05"
}

image "linux-sleep-06" {
  template = "templates/linux"
  build    = "null.linux-sleep-06"
}

image "linux-sleep-07" {
  template = "templates/linux"
  build    = "null.linux-sleep-07"
}

image "linux-sleep-08" {
  template = "templates/linux"
  build    = "null.linux-sleep-08"
}

image "linux-sleep-09" {
  template = "templates/linux"
  build    = "null.linux-sleep-09"
}

image "linux-sleep-10" {
  template = "templates/linux"
  build    = "null.linux-sleep-10"
}

image "linux-sleep-11" {
  template = "templates/linux"
  build    = "null.linux-sleep-11"
}

image "linux-sleep-12" {
  template = "templates/linux"
  build    = "null.linux-sleep-12"
}

image "linux-sleep-13" {
  template = "templates/linux"
  build    = "null.linux-sleep-13"
}

image "linux-sleep-14" {
  template = "templates/linux"
  build    = "null.linux-sleep-14"
}

image "linux-sleep-15" {
  template = "templates/linux"
  build    = "null.linux-sleep-15"
}

image "linux-sleep-16" {
  template = "templates/linux"
  build    = "null.linux-sleep-16"
}

image "linux-sleep-17" {
  template = "templates/linux"
  build    = "null.linux-sleep-17"
}

image "linux-sleep-18" {
  template = "templates/linux"
  build    = "null.linux-sleep-18"
}

image "linux-sleep-19" {
  template = "templates/linux"
  build    = "null.linux-sleep-19"
}

image "linux-sleep-20" {
  template = "templates/linux"
  build    = "null.linux-sleep-20"
}
