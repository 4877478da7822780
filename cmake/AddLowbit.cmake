# Thin wrappers over MLIR's add_mlir_* functions so every Lowbit target is declared
# the same way.

# add_lowbit_library(name sources... [DEPENDS ...] [LINK_LIBS ...])
function(add_lowbit_library name)
  add_mlir_library(${name} ${ARGN} DISABLE_INSTALL)
endfunction()

# add_lowbit_tool(name sources... ) ; link libraries with target_link_libraries.
# Tools install to <prefix>/bin and find the runtime library in <prefix>/lib.
function(add_lowbit_tool name)
  add_llvm_executable(${name} ${ARGN})
  llvm_update_compile_flags(${name})
  set_target_properties(${name} PROPERTIES INSTALL_RPATH "$ORIGIN/../lib")
  install(TARGETS ${name} RUNTIME DESTINATION bin COMPONENT lowbit)
endfunction()
