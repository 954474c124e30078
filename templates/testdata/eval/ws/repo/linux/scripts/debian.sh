deb
