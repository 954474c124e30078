source "null" "linux-app" {
  communicator = "none"
}
