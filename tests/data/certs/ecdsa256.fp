256 SHA256:H5kdBf+G9Y9neaJG0kyq+hu+T+PUCN5CMxH0Wvl/Eu4 no comment (ECDSA)
256 MD5:c8:79:1f:57:47:8c:75:12:5d:57:a5:69:5f:42:bb:cb no comment (ECDSA)
