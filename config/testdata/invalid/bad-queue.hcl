environment "dev" {
  queue = "Windows Hosts" # ERROR: Invalid queue name
}

image "linux-a" {
  template = "templates/linux"
  build    = "null.linux-a"
  queue    = "-windows" # ERROR: Invalid queue name
  retries  = 11 # ERROR: Invalid retries
}
