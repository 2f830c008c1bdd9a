# CMake generated Testfile for 
# Source directory: /work/main/rpc
# Build directory: /work/main/rpc
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
