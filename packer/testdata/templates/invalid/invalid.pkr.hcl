source "null" "x" {
  communicator = "none"
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]
}
