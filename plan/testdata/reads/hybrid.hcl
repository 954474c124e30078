hybrid {
  packer_version = ">= 1.9.0"
}

environment "dev" {
  values = { output_dir = "output/dev" }
}

environment "prod" {
  parent = environment.dev
  values = { output_dir = "output/prod" }
}

image "linux" {
  for_each = toset(["debian", "ubuntu"])
  template = "templates/linux"
  build    = "file.linux-os"
  values   = { os_name = each.key }
}
