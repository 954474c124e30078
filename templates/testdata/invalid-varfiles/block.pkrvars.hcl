vm_cpu_count = 2

variable "vm_mem_size" { # ERROR: Block in a var file
  default = 4096
}

vsphere { # ERROR: Block in a var file
  endpoint = "vc.example.com"
}
