image "linux-debian" {
  for_each = [
    "11",
    "12",
    "11", # ERROR: Duplicate for_each key
  ]
  template = "templates/debian"
  build    = "file.linux-debian"
}
