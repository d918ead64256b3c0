import { OCI_VERSION } from "@tsrun/libcontainer";

declare const __TSRUN_VERSION__: string | undefined;
const version = typeof __TSRUN_VERSION__ === "string" ? __TSRUN_VERSION__ : "0.1.0";

/** Shown verbatim by `podman info`. */
export const VERSION_TEXT = `tsrun version ${version}\nspec: ${OCI_VERSION}\nnode: ${process.version}\n`;

export const usage = () => `NAME:
   tsrun - a runc-compatible OCI container runtime

USAGE:
   tsrun [global options] command [command options] [arguments...]

COMMANDS:
   create    create a container
   delete    delete any resources held by the container
   events    display container events such as OOM notifications, cpu, memory, and IO usage statistics
   exec      execute new process inside the container
   features  show the enabled features
   kill      send a signal to the container's init process
   list      list containers started by tsrun with the given root
   pause     pause suspends all processes inside the container
   ps        ps displays the processes running inside a container
   resume    resumes all processes that have been previously paused
   run       create and run a container
   spec      create a new specification file
   start     execute the user defined process in a created container
   state     output the state of a container
   update    update container resource constraints

GLOBAL OPTIONS:
   --debug             enable debug logging
   --log value         set the log file to write tsrun logs to (default is stderr)
   --log-format value  set the log format ('text' (default), or 'json')
   --root value        root directory for storage of container state (default: "/run/tsrun")
   --help, -h          show help
   --version, -v       print the version
`;
