packer {
  version = "1.9.4"
}

provider "aws" { # ERROR: Unsupported block type
}
