d-i version ${version}
