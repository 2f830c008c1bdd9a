// File: status.h
// Zun's status and task-state vocabulary (zun/common/consts.py), and the
// capsule state machine the agent drives:
//
//   API create          Creating / task NULL
//     agent claims      Creating / container_creating   (host = this node)
//       success         Running  / NULL   children Running (init: Stopped)
//       failure         Error    / NULL   status_reason says what failed
//   API delete          <any>    / container_deleting
//     agent deletes     row gone (children by cascade)
//     failure           Error    / NULL
//
// After creation the agent keeps statuses current from the runtime:
// a capsule is Running while its sandbox is READY and every regular
// container runs (or is being restarted per policy), Stopped when every
// container has exited for good with 0, Error otherwise.
#pragma once

#include <string_view>

#include "cri/types.h"

namespace zun::capsule {

// Container / capsule statuses (VARCHAR(20)).
inline constexpr std::string_view kStatusError = "Error";
inline constexpr std::string_view kStatusRunning = "Running";
inline constexpr std::string_view kStatusStopped = "Stopped";
inline constexpr std::string_view kStatusPaused = "Paused";
inline constexpr std::string_view kStatusUnknown = "Unknown";
inline constexpr std::string_view kStatusCreating = "Creating";
inline constexpr std::string_view kStatusCreated = "Created";
inline constexpr std::string_view kStatusDeleted = "Deleted";
inline constexpr std::string_view kStatusDeleting = "Deleting";
inline constexpr std::string_view kStatusRebuilding = "Rebuilding";
inline constexpr std::string_view kStatusDead = "Dead";
inline constexpr std::string_view kStatusRestarting = "Restarting";

// Task states (VARCHAR(20)).
inline constexpr std::string_view kTaskCreating = "container_creating";
inline constexpr std::string_view kTaskDeleting = "container_deleting";
inline constexpr std::string_view kTaskStarting = "container_starting";
inline constexpr std::string_view kTaskStopping = "container_stopping";
inline constexpr std::string_view kTaskImagePulling = "image_pulling";

// Zun status of a CRI container state, as upstream's driver maps it
// (EXITED is Stopped; exit codes live in status_reason/status_detail).
std::string_view StatusOfContainerState(cri::ContainerState s);

}  // namespace zun::capsule
