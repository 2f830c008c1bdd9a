# CMake generated Testfile for 
# Source directory: /work/main/db
# Build directory: /work/main/db
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
