// The intake form's helpers, the console's own (no outside code). The form
// works without them: the server checks everything again. Nothing is kept
// in the browser: a window PC is shared, and a draft lives on the server.
(function () {
  "use strict";
  var form = document.getElementById("intake");
  if (!form) {
    return;
  }
  var id = form.elements.idNumber;
  var birth = form.elements.birthDate;
  var sex = form.elements.sex;

  // GB 11643: 17 digits, a MOD 11-2 check character, the birth date in
  // digits 7 to 14, the sex in the 17th (odd: male).
  var weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var checks = "10X98765432";
  function parseID(value) {
    var v = value.trim().toUpperCase();
    if (!/^[0-9]{17}[0-9X]$/.test(v)) {
      return null;
    }
    var sum = 0;
    for (var i = 0; i < 17; i++) {
      sum += (v.charCodeAt(i) - 48) * weights[i];
    }
    if (checks.charAt(sum % 11) !== v.charAt(17)) {
      return null;
    }
    var y = +v.slice(6, 10), m = +v.slice(10, 12), d = +v.slice(12, 14);
    var date = new Date(Date.UTC(y, m - 1, d));
    if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) {
      return null;
    }
    return { birth: v.slice(6, 10) + "-" + v.slice(10, 12) + "-" + v.slice(12, 14), male: (v.charCodeAt(16) - 48) % 2 === 1 };
  }

  // As the clerk leaves the ID field, birth date and sex follow from a
  // valid number (the ID card is the source; a wrong number fills nothing
  // and the server says what is wrong with it).
  function fill() {
    var p = parseID(id.value);
    if (!p) {
      return;
    }
    birth.value = p.birth;
    sex.value = p.male ? "male" : "female";
  }
  id.addEventListener("change", fill);
  id.addEventListener("blur", fill);

  // Enter in a field moves to the next field instead of sending half a
  // form; the buttons still send it. Enter that confirms an input method's
  // candidate (Chinese typing) is left alone.
  function fields() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return !el.disabled && el.type !== "hidden" && el.tagName !== "FIELDSET" && el.tagName !== "BUTTON";
    });
  }
  function enterInField(e) {
    var t = e.target;
    return e.key === "Enter" && !e.isComposing && e.keyCode !== 229 && (t.tagName === "INPUT" || t.tagName === "SELECT") &&
      t.type !== "submit" && t.type !== "button";
  }
  // The form is sent by Enter's keypress; a browser that sends one even
  // though the keydown was handled (automation does) sends nothing either.
  form.addEventListener("keypress", function (e) {
    if (enterInField(e)) {
      e.preventDefault();
    }
  });
  form.addEventListener("keydown", function (e) {
    var t = e.target;
    if (!enterInField(e)) {
      return;
    }
    e.preventDefault();
    var list = fields();
    for (var i = list.indexOf(t) + 1; i < list.length; i++) {
      // A radio group is one stop, as Tab makes it.
      if (!(t.type === "radio" && list[i].type === "radio" && list[i].name === t.name)) {
        list[i].focus();
        return;
      }
    }
  });
})();
