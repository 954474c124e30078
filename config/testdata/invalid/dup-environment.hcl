environment "dev" {}
environment "dev" {} # ERROR: Duplicate environment block
