# SPDX-License-Identifier: MIT
# rcgc_public_headers(DIR): write the headers users include into DIR
# (<build>/include/rcgc), at configure time:
#
#   objalloc.h refcount.h cyclegc.h  the layers' public headers, with
#                                    their includes of each other spelled
#                                    as siblings ("objalloc.h") instead of
#                                    from the repository root
#                                    ("objalloc/objalloc.h");
#   version.h                        RCGC_VERSION... from VERSION
#                                    (cmake/version.h.in);
#   rcgc.h                           all of them (cmake/rcgc.h.in).
#
# Editing a layer's header re-runs CMake (CMAKE_CONFIGURE_DEPENDS), so the
# copies never lag behind.  Sets RCGC_PUBLIC_HEADERS in the caller.
function(rcgc_public_headers dir)
    set(layers objalloc refcount cyclegc)
    set(out "")
    foreach(layer ${layers})
        set(src ${PROJECT_SOURCE_DIR}/${layer}/${layer}.h)
        set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY
            CMAKE_CONFIGURE_DEPENDS ${src})
        file(READ ${src} text)
        foreach(other ${layers})
            string(REPLACE "#include \"${other}/${other}.h\""
                "#include \"${other}.h\"" text "${text}")
        endforeach()
        set(dst ${dir}/${layer}.h)
        set(old "")
        if(EXISTS ${dst})
            file(READ ${dst} old)
        endif()
        if(NOT old STREQUAL text)
            file(WRITE ${dst} "${text}")
        endif()
        list(APPEND out ${dst})
    endforeach()
    configure_file(${PROJECT_SOURCE_DIR}/cmake/version.h.in
        ${dir}/version.h @ONLY)
    configure_file(${PROJECT_SOURCE_DIR}/cmake/rcgc.h.in ${dir}/rcgc.h
        COPYONLY)
    list(APPEND out ${dir}/version.h ${dir}/rcgc.h)
    set(RCGC_PUBLIC_HEADERS ${out} PARENT_SCOPE)
endfunction()
