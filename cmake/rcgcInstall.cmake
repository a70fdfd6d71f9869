# SPDX-License-Identifier: MIT
# Install rules (included by CMakeLists.txt when RCGC_INSTALL is on):
#   lib/librcgc.a, lib/librcgc.so*         the library
#   include/rcgc/*.h                       RCGC_PUBLIC_HEADERS
#   lib/cmake/rcgc/                        find_package(rcgc): rcgc::rcgc,
#                                          rcgc::rcgc_shared
#   lib/pkgconfig/rcgc.pc                  pkg-config (relocatable)
#   share/doc/rcgc/LICENSE                 the MIT licence
install(TARGETS rcgc rcgc_shared EXPORT rcgcTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${RCGC_PUBLIC_HEADERS}
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/rcgc)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE
    DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(EXPORT rcgcTargets NAMESPACE rcgc::
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rcgc)
include(CMakePackageConfigHelpers)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/rcgcConfig.cmake.in
    ${PROJECT_BINARY_DIR}/rcgcConfig.cmake
    INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rcgc)
# Before 1.0 a minor release may break compatibility (see version.h.in).
if(PROJECT_VERSION_MAJOR EQUAL 0)
    set(rcgc_compat SameMinorVersion)
else()
    set(rcgc_compat SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/rcgcConfigVersion.cmake
    COMPATIBILITY ${rcgc_compat})
install(FILES ${PROJECT_BINARY_DIR}/rcgcConfig.cmake
    ${PROJECT_BINARY_DIR}/rcgcConfigVersion.cmake
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rcgc)
# The .pc file finds its prefix from its own place (relocatable installs).
file(RELATIVE_PATH RCGC_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
configure_file(${PROJECT_SOURCE_DIR}/cmake/rcgc.pc.in
    ${PROJECT_BINARY_DIR}/rcgc.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/rcgc.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
