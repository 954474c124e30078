iso_path      = "iso/linux"
iso_file      = var.iso_name # ERROR: Reference in a var file
iso_url       = "https://mirror/${local.path}" # ERROR: Reference in a var file
build_version = upper("v1") # ERROR: Function calls not allowed
disk_sizes    = [for s in [1, 2] : s * 1024]
