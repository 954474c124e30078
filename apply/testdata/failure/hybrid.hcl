# Three images in one environment: linux-base fails (its provisioner exits
# 1), linux-app is built from linux-base's artifact and so must be skipped,
# and linux-other depends on neither and must be built and recorded.

hybrid {
  packer_version = ">= 1.9.0"
}

environment "dev" {
  description = "The only environment."
}

image "linux-base" {
  template = "templates/linux"
  build    = "null.linux-base"
}

image "linux-app" {
  template   = "templates/linux"
  build      = "file.linux-app"
  depends_on = [image.linux-base]
}

image "linux-other" {
  template = "templates/linux"
  build    = "file.linux-other"
}
