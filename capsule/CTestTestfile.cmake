# CMake generated Testfile for 
# Source directory: /work/main/capsule
# Build directory: /work/main/capsule
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
