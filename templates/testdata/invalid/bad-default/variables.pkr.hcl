variable "cpus" {
  type    = number
  default = "two" # ERROR: Invalid default value for variable
}

variable "tags" {
  type    = list(string)
  default = { a = "b" } # ERROR: Invalid default value for variable
}

variable "disks" {
  type = list(object({ size = number }))
  default = [ # ERROR: Invalid default value for variable
    { size = 1 },
    { name = "x" },
  ]
}

variable "computed" {
  type    = string
  default = "${path.cwd}/computed"
}
