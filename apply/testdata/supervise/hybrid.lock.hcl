# This file is maintained automatically by "hybrid lock".
# Manual edits may be lost in future updates; commit it to version control.

packer {
  version     = "1.9.4"
  constraints = ">= 1.9.0"
}
