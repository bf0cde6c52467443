// Skills as big icon buttons with their names: a toggle group for workers and employers.

import { skillLabel, t, addStrings, onLangChange } from "./i18n.js";
import { h, icon } from "./client.js";

addStrings({
  zh: { "skill.cert": "需要证书" },
  en: { "skill.cert": "certificate needed" },
});

/**
 * Draw skills into container as toggle buttons. selected is a Set of codes the picker keeps
 * up to date; onChange(selected) after each toggle. With single: true a tap replaces the choice.
 */
export function skillPicker(container, skills, selected, { single = false, onChange } = {}) {
  const render = () => {
    container.replaceChildren(...skills.map((skill) => {
      const on = selected.has(skill.code);
      return h("button", {
        type: "button",
        class: "choice skill-btn",
        "aria-pressed": on ? "true" : "false",
        "data-skill": skill.code,
        onclick: () => {
          if (single) {
            selected.clear();
            selected.add(skill.code);
          } else if (selected.has(skill.code)) selected.delete(skill.code);
          else selected.add(skill.code);
          render();
          container.querySelector(`[data-skill="${skill.code}"]`).focus();
          if (onChange) onChange(selected);
        },
      },
      icon(skill.icon || "🔧"),
      h("span", {}, skillLabel(skill)),
      skill.certificate_required ? h("span", { class: "cert" }, `📜 ${t("skill.cert")}`) : null);
    }));
  };
  render();
  // One language listener per container, however often a page rebuilds the picker.
  container.gmRender = render;
  if (!container.dataset.langWired) {
    container.dataset.langWired = "1";
    onLangChange(() => container.gmRender && container.gmRender());
  }
  return { render };
}

/** "🧱 搬运装卸、🧹 保洁" for a list of codes. */
export function skillNames(codes, skillByCode) {
  return (codes || []).map((c) => {
    const s = skillByCode.get(c);
    return s ? `${s.icon} ${skillLabel(s)}` : c;
  }).join(t("list.sep"));
}

addStrings({ zh: { "list.sep": "、" }, en: { "list.sep": ", " } });
