image "a" {
  template   = "templates/linux"
  build      = "file.linux-a"
  depends_on = [image.b]
}

image "b" {
  template   = "templates/linux"
  build      = "file.linux-b"
  depends_on = [image.a] # ERROR: Cycle in image depends_on
}
