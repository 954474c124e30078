var_group "common" {
  var_files = ["/etc/passwd"] # ERROR: Absolute path not allowed
}
