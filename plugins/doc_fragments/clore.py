"""Connection options shared by every clore.ai module (DOCUMENTATION) and the inventory plugin (INVENTORY)."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  api_key:
    description:
      - The Clore.ai API key, sent as it is in the C(auth) header. A value shorter than 12 characters cannot be a key
        and is refused before any call.
      - If not set, the environment variable E(CLORE_API_KEY) is used.
      - Set it once for every module with C(module_defaults) and the group C(group/clore.ai.clore).
    type: str
    required: true
  api_url:
    description:
      - The base URL of the Clore.ai API, up to and including C(/v1).
      - Point it at clore-sim (for example V(http://127.0.0.1:8199/v1)) to test playbooks without renting anything.
      - If not set, the environment variable E(CLORE_API_URL) is used.
    type: str
    default: https://api.clore.ai/v1
  api_timeout:
    description:
      - Seconds to wait for the API to connect and to answer, per HTTP request.
      - If not set, the environment variable E(CLORE_API_TIMEOUT) is used.
    type: float
    default: 30
  api_user_agent:
    description:
      - The User-Agent header sent with every request.
      - The default names the collection, its version, its home page and the version of C(requests).
      - Cloudflare in front of the API refuses some generic User-Agents (HTTP 403, with the body C(error code 1010)).
      - If not set, the environment variable E(CLORE_API_USER_AGENT) is used.
    type: str
  api_request_interval:
    description:
      - Minimum seconds between two API requests made with the same key against the same O(api_url), counted
        across every process of the controller (forks, loops, several C(ansible-playbook) runs at once).
      - V(0) turns this limit off, for example against clore-sim started without rate limits.
      - If not set, the environment variable E(CLORE_API_REQUEST_INTERVAL) is used.
    type: float
    default: 1.0
  api_create_interval:
    description:
      - Minimum seconds between two C(create_order) requests with the same key, across every process of the
        controller.
      - V(0) turns this limit off.
      - If not set, the environment variable E(CLORE_API_CREATE_INTERVAL) is used.
    type: float
    default: 5.0
  api_state_dir:
    description:
      - Directory of the shared rate limiter's lock files (one per API URL and key; the key appears only hashed).
      - Every process that should share the limit must use the same directory.
      - Defaults to C(clore.ai) under the user's cache directory (C($XDG_CACHE_HOME) or C(~/.cache)), or to a
        per-user directory under the system temp directory when the home directory cannot be written.
      - If not set, the environment variable E(CLORE_STATE_DIR) is used.
      - An empty value is refused (leave the option out for the default).
    type: path
  api_retry_timeout:
    description:
      - Total seconds spent retrying one API call before giving up. Waiting for the shared rate limiter counts too
        (a call may always wait its own interval); a call whose turn is further away fails at once, naming the
        limiter's state file.
      - Rate-limited calls (HTTP 429, code 5) are retried for every method, waiting as told by C(Retry-After) or
        with exponential backoff; database errors (code 1), HTTP 5xx and network failures are retried only for
        reads, never for requests that may have changed something.
      - V(0) disables retries.
      - If not set, the environment variable E(CLORE_API_RETRY_TIMEOUT) is used.
    type: float
    default: 120
requirements:
  - requests >= 2.28 (on the controller)
notes:
  - The modules talk to the Clore.ai API from the controller; run them on C(localhost) or delegate them to it (they never need the managed host).
  - See docs/connection.md in the collection for every connection option, the rate limiter and the error codes.
"""

    INVENTORY = r"""
options:
  api_key:
    description:
      - The Clore.ai API key, sent as it is in the C(auth) header. A value shorter than 12 characters cannot be a key
        and is refused before any call.
    type: str
    required: true
    env:
      - name: CLORE_API_KEY
  api_url:
    description:
      - The base URL of the Clore.ai API, up to and including C(/v1).
      - Point it at clore-sim (for example V(http://127.0.0.1:8199/v1)) to test without renting anything.
    type: str
    default: https://api.clore.ai/v1
    env:
      - name: CLORE_API_URL
  api_timeout:
    description:
      - Seconds to wait for the API to connect and to answer, per HTTP request.
    type: float
    default: 30
    env:
      - name: CLORE_API_TIMEOUT
  api_user_agent:
    description:
      - The User-Agent header sent with every request; the default names the collection and its version.
      - Cloudflare in front of the API refuses some generic User-Agents (HTTP 403, with the body C(error code 1010)).
    type: str
    env:
      - name: CLORE_API_USER_AGENT
  api_request_interval:
    description:
      - Minimum seconds between two API requests made with the same key against the same O(api_url), counted
        across every process of the controller.
      - V(0) turns this limit off.
    type: float
    default: 1.0
    env:
      - name: CLORE_API_REQUEST_INTERVAL
  api_create_interval:
    description:
      - Minimum seconds between two C(create_order) requests with the same key, across every process of the
        controller.
    type: float
    default: 5.0
    env:
      - name: CLORE_API_CREATE_INTERVAL
  api_state_dir:
    description:
      - Directory of the shared rate limiter's lock files.
      - Defaults to C(clore.ai) under the user's cache directory, or a per-user directory under the system temp
        directory when the home directory cannot be written.
      - An empty value is refused (leave the option out for the default).
    type: path
    env:
      - name: CLORE_STATE_DIR
  api_retry_timeout:
    description:
      - Total seconds spent retrying one API call before giving up (rate limits for every call; database errors,
        HTTP 5xx and network failures for reads only). Waiting for the shared rate limiter counts too.
    type: float
    default: 120
    env:
      - name: CLORE_API_RETRY_TIMEOUT
requirements:
  - requests >= 2.28 (on the controller)
"""
