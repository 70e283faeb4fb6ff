2048 SHA256:wlpYnl0W9kzlhi2dPagC6H0doF/ag7pCJIYGEoAhE7g no comment (RSA)
2048 MD5:e2:bf:f7:77:93:98:f4:72:d0:38:c6:4d:26:f9:74:23 no comment (RSA)
