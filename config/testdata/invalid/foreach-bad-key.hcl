image "linux-ubuntu" {
  for_each = {
    "22-04" = "jammy"
    "24.04" = "noble" # ERROR: Invalid for_each key
  }
  template = "templates/ubuntu/${each.key}"
  build    = "file.linux-ubuntu"
}

image "linux-debian" {
  for_each = toset(["Bookworm"]) # ERROR: Invalid for_each key
  template = "templates/debian"
  build    = "file.linux-debian"
}

image "linux-rocky" {
  for_each = toset(["a-very-long-key-that-makes-the-image-name-longer-than-63-chars"]) # ERROR: Invalid for_each key
  template = "templates/rocky"
  build    = "file.linux-rocky"
}
