source "examples" {
  url = "" # ERROR: Missing source url
}
