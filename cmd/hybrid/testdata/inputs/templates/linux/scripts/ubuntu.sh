apt-get update # ubuntu
