384 SHA256:zRvcWYEN+3gL1nOV9pMFxkgVhT4koCLIOV7EfgMXW6U ecdsa384@sshclient-test (ECDSA)
384 MD5:c4:3d:02:1c:9a:d6:b0:24:8b:d1:dc:ad:62:a3:69:4c ecdsa384@sshclient-test (ECDSA)
