2048 SHA256:lXgP9wA03j3V1JLDv8CpSsEhSwd1CWr8W95AedYK3OA rsa2048@sshclient-test (RSA)
2048 MD5:2e:68:db:c8:64:75:9c:08:6f:45:89:2a:65:ac:cc:bb rsa2048@sshclient-test (RSA)
