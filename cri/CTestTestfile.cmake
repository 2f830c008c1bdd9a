# CMake generated Testfile for 
# Source directory: /work/main/cri
# Build directory: /work/main/cri
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
