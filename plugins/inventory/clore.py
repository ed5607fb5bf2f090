# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The clore.ai.clore dynamic inventory: every active Clore.ai order as an SSH-ready host."""
from __future__ import annotations

DOCUMENTATION = r"""
name: clore
short_description: Clore.ai orders as inventory hosts
version_added: 0.1.0
description:
  - Lists your active Clore.ai orders with one C(my_orders) call and makes each one a host, reachable over SSH at the
    public address and port that Clore maps to the container's port 22.
  - Orders not provisioned yet (no public host or no port 22 mapping) are hosts in the group C(clore_pending) without
    C(ansible_host); provisioned ones are in C(clore_ready). Every host is in C(clore), and in C(clore_spot) or
    C(clore_on_demand).
  - Every other host variable is prefixed (O(hostvars_prefix), default C(clore_)). No secret is ever a host variable.
  - "Host variables, with the default prefix: the order C(clore_id), C(clore_server_id),
    C(clore_image), C(clore_image_id) (the image's one reference, whatever its spelling), C(clore_status),
    C(clore_online), C(clore_expired), C(clore_spot); its price C(clore_currency), C(clore_price) and
    C(clore_price_per_day) (one day in that currency), C(clore_price_per_hour), C(clore_usd_per_day),
    C(clore_usd_per_hour), C(clore_usd_source) (where the dollar figure comes from), C(clore_original_price_usd) (the
    API's own dollar price, when it sends one), C(clore_spend), C(clore_creation_fee); its time C(clore_created_at),
    C(clore_age_seconds), C(clore_mrl), C(clore_mrl_seconds), C(clore_time_left_seconds); the server's
    C(clore_gpu_model), C(clore_gpu_count), C(clore_gpu_ram_gb), C(clore_country); how to reach it C(clore_ready),
    C(clore_pending), C(clore_ssh_host), C(clore_ssh_port), C(clore_ssh_user), C(clore_ssh_command),
    C(clore_http_port), C(clore_http_url), C(clore_tcp_ports), C(clore_known_hosts_file) (O(host_key_checking=per_order),
    ready hosts). Connection variables: C(ansible_user) on every host; C(ansible_host), C(ansible_port),
    C(ansible_ssh_common_args) and C(ansible_python_interpreter) (when O(python_interpreter) is set) on ready hosts."
  - Host keys are checked. By default each order gets its own known_hosts file under O(known_hosts_dir), used with
    C(StrictHostKeyChecking=accept-new) through C(ansible_ssh_common_args), so a new container is trusted on first
    contact, a key that changes during an order is refused, and a port reused by a later order never meets an old key.
  - One malformed order is skipped with a warning naming it; it never empties the inventory. So is an order whose
    SSH endpoint is not safe to hand to ssh (a host name other than letters, digits and C(.-_:), or one starting with
    C(-); a port outside 1-65535) - such an order is never a host.
  - So is an order nested deeper than 64 levels in the C(my_orders) answer; the other orders are read.
  - With a file cache plugin (C(ansible.builtin.jsonfile)), the cache holds only the order fields the plugin reads
    (nested ones too), the cache files it writes are made 0600 and a O(cache_connection) directory Ansible has just
    made for it 0700.
  - The configuration is checked before any API call - an unknown option, a boolean option that is not a boolean, a
    O(hostname) template or O(filters) conditional that does not compile, or a O(known_hosts_dir) that cannot be
    created or written fails the parse with an error naming the option.
  - The configuration file name must end in C(clore.yml) or C(clore.yaml); a file named otherwise whose C(plugin) is
    C(clore.ai.clore) fails with an error naming this rule.
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - clore.ai.clore.inventory
options:
  plugin:
    description: The name of this plugin; makes the file an inventory source for it.
    required: true
    type: str
    choices: [clore.ai.clore]
  hostname:
    description:
      - Jinja template for each host's name, over the host's variables (prefixed, as in O(hostvars_prefix)) and
        C(order), the unprefixed order (the keys listed under C(clore_order_info)'s RV(clore.ai.clore_order_info#module:orders)).
      - A template that does not compile (a syntax error, an unknown filter) fails the parse before any API call.
      - A host whose name fails to render, renders empty, or repeats an earlier host's name is skipped with a warning.
    type: str
    default: "clore-{{ order.id }}"
  hostvars_prefix:
    description:
      - Prefix of every host variable the plugin sets, except the C(ansible_*) connection variables.
      - Letters, digits and underscores, not starting with a digit (every variable name must be valid).
    type: str
    default: clore_
  ansible_user:
    description: The SSH user, set as C(ansible_user) on every host. Clore containers run SSH as root.
    type: str
    default: root
  python_interpreter:
    description:
      - When set, becomes C(ansible_python_interpreter) on every ready host. Unset, the usual interpreter discovery
        applies. Containers rented from clore-sim have C(/usr/bin/python3).
    type: str
  include_pending:
    description:
      - Whether orders that are not provisioned yet are hosts (in C(clore_pending)) at all.
      - Like every boolean option, only a boolean is accepted (V(true)/V(false), V(yes)/V(no), V(1)/V(0)).
    type: bool
    default: true
  host_key_checking:
    description:
      - V(per_order) - a known_hosts file per order under O(known_hosts_dir), with C(StrictHostKeyChecking=accept-new).
      - V(strict) - C(StrictHostKeyChecking=yes) against your own known_hosts, which must already hold each
        container's key.
      - V(off) - no checking (C(UserKnownHostsFile=/dev/null), C(StrictHostKeyChecking=no)); only for throwaway tests.
      - Ansible's own C(host_key_checking=false) still turns checking off whatever this says.
    type: str
    choices: [per_order, strict, "off"]
    default: per_order
  known_hosts_dir:
    description:
      - Directory of the per-order known_hosts files (created, mode 0700). Default C(known_hosts) under
        O(api_state_dir).
      - It must be writable (ssh records each container's key there); this is checked before any API call.
    type: path
    env:
      - name: CLORE_KNOWN_HOSTS_DIR
  filters:
    description:
      - Jinja conditionals over each host's variables (after O(compose)); a host is kept only when every one is true.
      - A conditional that fails to evaluate drops the host with a warning, or fails the parse when O(strict) is true.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
# inventory/clore.yml - the API key comes from CLORE_API_KEY (or put it here, vaulted)
plugin: clore.ai.clore

---
# Names by GPU, groups by GPU model, country and spot, only the 4090s, cached for five minutes
plugin: clore.ai.clore
hostname: "{{ clore_gpu_model | default('gpu', true) | lower | regex_replace('[^a-z0-9]+', '-') }}-{{ order.id }}"
python_interpreter: /usr/bin/python3
filters:
  - clore_gpu_model is not none and '4090' in clore_gpu_model
compose:
  hourly_cost: clore_price_per_hour
keyed_groups:
  - key: clore_gpu_model | default('unknown', true) | lower
    prefix: gpu
  - key: clore_country
    prefix: country
  - key: "'spot' if clore_spot else 'on_demand'"
    prefix: type
groups:
  expensive: clore_usd_per_hour is not none and clore_usd_per_hour > 1
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/clore.ai/inventory
cache_timeout: 300

---
# A vaulted key and a private clore-sim
plugin: clore.ai.clore
api_url: http://127.0.0.1:8199/v1
api_key: !vault |
  $ANSIBLE_VAULT;1.1;AES256
  6231...
"""

import difflib
import os
import re
import stat
import time
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.plugins.cache import BaseFileCacheModule
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.utils.vars import combine_vars

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core before 2.19 has no template trust: every template string is usable as it is
    def trust_as_template(value: Any) -> Any:
        return value

try:
    from ansible.errors import AnsibleTemplateSyntaxError
except ImportError:  # before 2.19 a syntax error is not told apart from a missing variable: no early check
    AnsibleTemplateSyntaxError = None

from ansible_collections.clore.ai.plugins.module_utils.account import account_digest
from ansible_collections.clore.ai.plugins.module_utils.client import DEFAULT_API_URL
from ansible_collections.clore.ai.plugins.module_utils.common import client_from_options
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreError
from ansible_collections.clore.ai.plugins.module_utils.images import image_reference
from ansible_collections.clore.ai.plugins.module_utils.known_hosts import (
    HOST_KEY_POLICIES,
    ensure_known_hosts_dir,
    known_hosts_dir,
    known_hosts_file,
    ssh_common_args,
)
from ansible_collections.clore.ai.plugins.module_utils.flat_order import normalize_order, strip_order

DEFAULT_HOSTNAME = "clore-{{ order.id }}"
DEFAULT_GROUPS = ("clore", "clore_ready", "clore_pending", "clore_spot", "clore_on_demand")
CONFIG_SUFFIXES = ("clore.yml", "clore.yaml")
_BAD_HOSTNAME = re.compile(r"\s")
_PLUGIN_LINE = re.compile(r"""^plugin:\s*["']?clore\.ai\.clore["']?\s*(#.*)?$""")


def _names_this_plugin(path: str) -> bool:
    """Whether a YAML file says `plugin: clore.ai.clore` (a top-level line; the file is not parsed as a whole)."""
    if not path.endswith((".yml", ".yaml")):
        return False
    try:
        with open(path, encoding="utf-8") as handle:
            return any(_PLUGIN_LINE.match(line) for line in handle)
    except (OSError, UnicodeDecodeError):
        return False


def _renamed(path: str) -> str:
    """The file name the rule asks for: inventory.yml -> inventory.clore.yml."""
    stem, extension = os.path.splitext(os.path.basename(path))
    return f"{stem}.clore{extension}"


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "clore.ai.clore"
    _written_cache_keys: tuple[str, ...] = ()  # the cache entries this parse wrote, whose files are made private

    def verify_file(self, path: str) -> bool:
        # A file that names this plugin but not by the file-name rule is taken too, so that parse can name the rule:
        # declined here, it would get Ansible's generic "could not be verified".
        return super().verify_file(path) and (path.endswith(CONFIG_SUFFIXES) or _names_this_plugin(path))

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        if not path.endswith(CONFIG_SUFFIXES):
            raise AnsibleParserError(
                f"clore.ai.clore inventory {path}: the file name must end in clore.yml or clore.yaml "
                f"(for example {_renamed(path)})"
            )
        super().parse(inventory, loader, path, cache)
        config = self._read_config_data(path)
        self._private_cache_dir()
        # Everything that can be wrong with the configuration fails here, before the API call.
        self._check_config(config, path)
        settings = self._host_settings()
        self._check_templates(settings["hostname"], path)
        orders = self._orders(path, cache)
        self._populate(orders, settings)

    # --- the configuration, refused as a whole rather than read half-way

    def _check_config(self, config: Mapping, path: str) -> None:
        """Unknown options and booleans that are not booleans (Ansible would read "maybe" as false)."""
        definitions = self.option_definitions
        for name, value in config.items():
            if name not in definitions:
                close = difflib.get_close_matches(str(name), list(definitions), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise AnsibleParserError(
                    f"clore.ai.clore inventory {path}: unknown option {name!r}{hint} "
                    f"(ansible-doc -t inventory clore.ai.clore lists the options)"
                )
            if definitions[name].get("type") in ("bool", "boolean") and value is not None:
                try:
                    boolean(value, strict=True)
                except TypeError:
                    raise AnsibleParserError(
                        f"clore.ai.clore inventory {path}: option {name} must be a boolean (true or false), "
                        f"not {value!r}"
                    ) from None

    def _check_templates(self, hostname: str, path: str) -> None:
        """The hostname template and the filters must compile: one that does not would skip every host."""
        if AnsibleTemplateSyntaxError is None:
            return
        self.templar.available_variables = {}
        checks = [("hostname", hostname, self.templar.template)] if hostname != DEFAULT_HOSTNAME else []
        checks += [("filters", text, self.templar.evaluate_conditional) for text in self.get_option("filters") or []]
        for option, text, render in checks:
            try:
                render(trust_as_template(text))
            except AnsibleTemplateSyntaxError as err:
                raise AnsibleParserError(
                    f"clore.ai.clore inventory {path}: option {option}: {text!r} is not a valid template: {err}"
                ) from None
            except Exception:  # pylint: disable=broad-exception-caught
                pass  # it compiles; it needs an order's variables to render, which come later

    # --- where the orders come from: the cache or one my_orders call

    def _orders(self, path: str, cache: bool) -> list:
        cache_key = self._account_cache_key(path)
        use_cache = bool(self.get_option("cache"))
        if use_cache and cache:
            try:
                cached = self._cache[cache_key]
            except KeyError:
                cached = None
            if isinstance(cached, dict) and isinstance(cached.get("orders"), list):
                return cached["orders"]
        orders = self._fetch(path)
        if use_cache:
            # Plain dicts, only the fields the plugin reads (stored.ORDER): nothing secret lands in the cache file.
            self._cache[cache_key] = {"orders": orders}
            self._written_cache_keys = (*self._written_cache_keys, cache_key)
        return orders

    # --- the cache file: Ansible's file caches write with the umask (0644 in a 0755 directory); what the plugin sees
    # of them is made private to the user (0700 for a directory still empty, as Ansible has just made it; 0600 for
    # the files it wrote)

    def _private_cache_dir(self) -> None:
        cache = self._file_cache()
        directory = getattr(cache, "_cache_dir", None)
        try:
            info = os.stat(directory) if directory else None
            empty = info is not None and not os.listdir(directory)
        except OSError:
            return
        if empty and info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
            os.chmod(directory, 0o700)

    def update_cache_if_changed(self) -> None:
        super().update_cache_if_changed()
        directory = getattr(self._file_cache(), "_cache_dir", None)
        if not directory or not self._written_cache_keys:
            return
        try:
            # Named after the key, with a prefix and a serialisation mark that depend on the version of Ansible.
            names = [name for name in os.listdir(directory) if name.endswith(self._written_cache_keys)]
            for name in names:
                path = os.path.join(directory, name)
                info = os.stat(path)
                if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
                    os.chmod(path, 0o600)
        except OSError:
            pass  # not ours to fix: Ansible's cache plugin reports what is wrong with its directory

    def _file_cache(self) -> BaseFileCacheModule | None:
        plugin = getattr(getattr(self, "_cache", None), "_plugin", None)
        return plugin if isinstance(plugin, BaseFileCacheModule) else None

    def _account_cache_key(self, path: str) -> str:
        """The file's key plus the API URL and key, so that another account never reads this one's cache."""
        api_url = self.get_option("api_url") or DEFAULT_API_URL
        return f"{self.get_cache_key(path)}_{account_digest(str(api_url), self._option_text('api_key') or '')}"

    def _option_text(self, name: str) -> Any:
        """An option as plain text: a vaulted value is decrypted here, once."""
        value = self.get_option(name)
        return str(value) if value is not None else None

    def _fetch(self, path: str) -> list:
        client = None
        try:
            client = client_from_options(self._client_option, warn=self.display.warning)
            orders = client.my_orders()
        except CloreError as err:
            raise AnsibleParserError(f"clore.ai.clore inventory {path}: {err}") from None
        finally:
            if client is not None:
                client.close()
        return [strip_order(order) for order in orders]

    def _client_option(self, name: str) -> Any:
        return self._option_text(name) if name == "api_key" else self.get_option(name)

    # --- from orders to hosts

    def _populate(self, orders: list, settings: dict[str, Any]) -> None:
        for group in DEFAULT_GROUPS:
            self.inventory.add_group(group)
        now = time.time()
        names: set[str] = set()
        for raw in orders:
            try:
                order = normalize_order(raw, now)
            except ValueError as err:
                self.display.warning(f"clore.ai.clore: skipping a malformed {err}")
                continue
            if order["expired"]:
                continue
            if order["ssh_endpoint_error"]:
                # Never a host, not even a pending one: that endpoint must not reach ssh, and it will not improve.
                self.display.warning(
                    f"clore.ai.clore: skipping order {order['id']}: its SSH endpoint is unusable: "
                    f"{order['ssh_endpoint_error']}"
                )
                continue
            if not order["ready"] and not settings["include_pending"]:
                continue
            own_vars = self._host_vars(order, settings)
            name = self._hostname(order, own_vars, settings["hostname"])
            if name is None:
                continue
            composed = self._composed(own_vars, name)
            if not self._kept(own_vars | composed, name):
                continue
            if name in names:
                self.display.warning(
                    f"clore.ai.clore: skipping order {order['id']}: its host name {name!r} is already taken by "
                    f"another order; make the hostname template unique (include order.id)"
                )
                continue
            names.add(name)
            self._add_host(name, order, own_vars, composed)

    def _host_settings(self) -> dict[str, Any]:
        policy = self.get_option("host_key_checking")
        if policy not in HOST_KEY_POLICIES:
            raise AnsibleParserError(f"host_key_checking must be one of {', '.join(HOST_KEY_POLICIES)}")
        directory = None
        if policy == "per_order":
            directory = known_hosts_dir(self.get_option("known_hosts_dir"), self.get_option("api_state_dir"))
            try:
                ensure_known_hosts_dir(directory)
            except OSError as err:
                raise AnsibleParserError(
                    f"clore.ai.clore: known_hosts_dir {directory!r} cannot be created or written ({err.strerror}): set "
                    f"known_hosts_dir / CLORE_KNOWN_HOSTS_DIR or api_state_dir / CLORE_STATE_DIR to a writable path"
                ) from None
        prefix = self.get_option("hostvars_prefix") or ""
        if prefix and not f"{prefix}id".isidentifier():
            raise AnsibleParserError(
                f"clore.ai.clore: hostvars_prefix {prefix!r} does not make valid variable names: use letters, digits "
                f"and underscores, not starting with a digit (default clore_)"
            )
        return {
            "prefix": prefix,
            "user": self.get_option("ansible_user"),
            "python": self.get_option("python_interpreter"),
            "policy": policy,
            "known_hosts_dir": directory,
            "include_pending": self.get_option("include_pending"),
            "hostname": self.get_option("hostname") or DEFAULT_HOSTNAME,
        }

    @staticmethod
    def _host_vars(order: dict, settings: dict[str, Any]) -> dict[str, Any]:
        prefix = settings["prefix"]
        # ssh_endpoint_error is left out: an order with one is never a host.
        host_vars = {f"{prefix}{key}": value for key, value in order.items() if key != "ssh_endpoint_error"}
        host_vars[f"{prefix}pending"] = not order["ready"]
        # One name per image whatever Clore's spelling, for keyed_groups and comparisons (module_utils/images.py).
        host_vars[f"{prefix}image_id"] = image_reference(order["image"])
        if settings["user"]:
            host_vars["ansible_user"] = settings["user"]
        if not order["ready"]:
            return host_vars
        host_vars["ansible_host"] = order["ssh_host"]
        host_vars["ansible_port"] = order["ssh_port"]
        if settings["python"]:
            host_vars["ansible_python_interpreter"] = settings["python"]
        known_hosts = None
        if settings["policy"] == "per_order":
            known_hosts = known_hosts_file(settings["known_hosts_dir"], order["id"], order["created_at"])
            host_vars[f"{prefix}known_hosts_file"] = known_hosts
        host_vars["ansible_ssh_common_args"] = ssh_common_args(settings["policy"], known_hosts)
        return host_vars

    def _hostname(self, order: dict, host_vars: dict[str, Any], template: str) -> str | None:
        if template == DEFAULT_HOSTNAME:
            return f"clore-{order['id']}"  # the common case, without a Jinja round trip per host
        self.templar.available_variables = host_vars | {"order": order}
        try:
            name = self.templar.template(trust_as_template(template))
        except AnsibleError as err:
            self.display.warning(f"clore.ai.clore: skipping order {order['id']}: hostname template failed: {err}")
            return None
        name = str(name).strip() if name is not None else ""
        if not name or _BAD_HOSTNAME.search(name):
            self.display.warning(
                f"clore.ai.clore: skipping order {order['id']}: hostname template gave {name!r}, not a host name"
            )
            return None
        return name

    def _composed(self, host_vars: dict[str, Any], name: str) -> dict[str, Any]:
        """compose, applied before grouping and filtering, into a dict (the host does not exist yet)."""
        compose = self.get_option("compose")
        composed: dict[str, Any] = {}
        for varname, expression in (compose or {}).items():
            try:
                composed[varname] = self._compose(expression, host_vars)
            except Exception as err:  # any template error: Ansible's own constructed plugin treats them alike
                if self.get_option("strict"):
                    raise AnsibleParserError(f"Could not set {varname} for host {name}: {err}") from err
        return composed

    def _kept(self, host_vars: dict[str, Any], name: str) -> bool:
        filters = self.get_option("filters")
        if not filters:
            return True
        for conditional in filters:
            try:
                if not self._is_true(conditional, host_vars):
                    return False
            except (AnsibleError, TypeError, ValueError) as err:
                if self.get_option("strict"):
                    raise AnsibleParserError(f"clore.ai.clore: filter {conditional!r} failed for {name}: {err}")
                self.display.warning(f"clore.ai.clore: dropping {name}: filter {conditional!r} failed: {err}")
                return False
        return True

    def _is_true(self, conditional: str, host_vars: dict[str, Any]) -> bool:
        evaluate = getattr(self.templar, "evaluate_conditional", None)
        if evaluate is not None:
            self.templar.available_variables = host_vars
            return evaluate(conditional)
        # ansible-core before 2.19: an expression whose result may come back as text ("False").
        return boolean(self._compose(conditional, host_vars), strict=True)

    def _add_host(self, name: str, order: dict, own_vars: dict[str, Any], composed: dict[str, Any]) -> None:
        self.inventory.add_host(name, group="clore")
        self.inventory.add_host(name, group="clore_ready" if order["ready"] else "clore_pending")
        self.inventory.add_host(name, group="clore_spot" if order["spot"] else "clore_on_demand")
        # The plugin's own variables in one step. ansible-core 2.19's inventory.set_variable costs about 15 us a
        # variable (a deep copy tagging each value with its origin, then a check of the name): with some 40 variables
        # a host, that was most of a parse. These are JSON scalars and one dict of ints, under names made of a
        # checked prefix (hostvars_prefix) and fixed keys, so nothing set_variable does applies to them; the merge
        # is the one set_variable makes.
        host = self.inventory.get_host(name)
        host.vars = combine_vars(host.vars, own_vars)
        for key, value in composed.items():  # names and values of the user's making: the full checks
            self.inventory.set_variable(name, key, value)
        host_vars = own_vars | composed
        strict = self.get_option("strict")
        self._add_host_to_composed_groups(self.get_option("groups"), host_vars, name, strict, fetch_hostvars=False)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, name, strict, fetch_hostvars=False)
