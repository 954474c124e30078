image "ubuntu" {
  template = "templates/linux" "extra" # ERROR: Missing newline after argument
}
