variable "hybrid_upstream" {
  type    = map(object({ id = string, files = list(string) }))
  default = {}
}

source "file" "linux-debian-app" {
  content = "app"
  target  = "output/linux-debian-app.txt"
}

build {
  sources = ["source.file.linux-debian-app"]
}
