// A Chinese name by touch alone, for a kiosk with no keyboard and no input method (issue 10).
//
// Most names come from the ID-card reader (see docs/kiosk.md); this pad is for correcting one
// or entering one when the reader is missing. Pinyin would need an input method and reading
// skills many users lack, so the pad shows the characters themselves: the most common
// surnames (they cover well over 80% of people in mainland China) and the characters most used
// in given names, big enough to tap, plus delete and clear. A rarer character is entered by
// the market staff at the desk.

import { t, addStrings } from "./i18n.js";
import { h } from "./client.js";

addStrings({
  zh: {
    "np.surname": "姓",
    "np.given": "名",
    "np.delete": "删除一个字",
    "np.clear": "全部清除",
    "np.label": "选字键盘",
  },
  en: {
    "np.surname": "Surname",
    "np.given": "Given name",
    "np.delete": "Delete a character",
    "np.clear": "Clear",
    "np.label": "Character keyboard",
  },
});

export const SURNAMES = [..."王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤欧"];

export const GIVEN = [..."伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华玉萍红建国文辉力成志海波春梅兵金凤云燕荣亮飞鹏宇俊峰新民永生德福贵宝财发家东庆珍翠琴莲花菊香桃秋月丹婷玲雪琳颖晶慧佳欣怡雨阿小大二三四五六七八九"];

/** Mount the pad in ``box``; taps type into ``input`` (which keeps its own maxlength). */
export function namePad(box, input) {
  let set = "surname";
  const type = (ch) => {
    const max = Number(input.maxLength) > 0 ? Number(input.maxLength) : 20;
    if (ch === null) input.value = input.value.slice(0, -1);
    else if (ch === "") input.value = "";
    else if ([...input.value].length < max) input.value += ch;
    // After the surname, the given name's characters are the likelier next tap.
    if (ch && set === "surname" && [...input.value].length === 1) set = "given";
    input.dispatchEvent(new Event("input", { bubbles: true }));
    render();
  };
  const key = (label, onTap, extra = {}) => h("button", {
    type: "button", ...extra,
    // Keep the focus (and so this pad) on the name field.
    onpointerdown: (ev) => ev.preventDefault(),
    onclick: onTap,
  }, label);
  function render() {
    const chars = set === "surname" ? SURNAMES : GIVEN;
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", t("np.label"));
    box.replaceChildren(
      h("div", { class: "namepad-tabs", role: "tablist" },
        ["surname", "given"].map((s) => key(t(`np.${s}`), () => { set = s; render(); }, {
          role: "tab", class: "choice", "aria-selected": s === set ? "true" : "false", "data-set": s,
        }))),
      h("div", { class: "namepad-keys" }, chars.map((ch) => key(ch, () => type(ch), { "aria-label": ch, "data-char": ch }))),
      h("div", { class: "namepad-actions" },
        key("⌫", () => type(null), { class: "key-action", "aria-label": t("np.delete") }),
        key(t("np.clear"), () => type(""), { class: "key-action" })),
    );
  }
  render();
  return { render };
}
