# CMake generated Testfile for 
# Source directory: /work/main/agent
# Build directory: /work/main/agent
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
