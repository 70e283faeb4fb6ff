256 SHA256:B6CAAmYxUZgEiV/El5u1juNd8k46Usk3Tzk63SLRq44 ecdsa256@sshclient-test (ECDSA)
256 MD5:9a:d3:d3:37:5d:cb:28:e4:b2:69:7f:3c:31:d8:ce:08 ecdsa256@sshclient-test (ECDSA)
