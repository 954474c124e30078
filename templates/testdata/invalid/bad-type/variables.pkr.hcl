variable "misspelled" {
  type = strng # ERROR: Invalid type specification
}

variable "any_type" {
  type = list(any) # ERROR: Invalid type specification
}

variable "optional_attr" {
  type = object({
    name    = string
    address = optional(string) # ERROR: Invalid type specification
  })
}

variable "no_element_type" {
  type = list # ERROR: Invalid type specification
}

variable "fine" {
  type = map(list(number))
}
