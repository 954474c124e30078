#cloud-config
# ubuntu ${version}
