locals {
  sources = ["source.null.linux-app"]
}

source "null" "linux-app" {
  communicator = "none"
}

build {
  sources = local.sources # WARNING: Build sources are not literal
}

build {
  sources = ["source.null.${local.name}"] # WARNING: Build sources are not literal
}
