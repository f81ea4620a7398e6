"use strict";(self.rspackChunkkernelflow_lab=self.rspackChunkkernelflow_lab||[]).push([[232],{475(e,n,r){var t=r(601),a=r.n(t),o=r(314),i=(r.n(o))()(a());i.push([e.id,`/* kernelflow-lab: the runs side panel and the dashboard tabs */
.kf-lab-dashboard iframe {
  border: none;
}

.kf-lab-panel {
  display: flex;
  flex-direction: column;
  background: var(--jp-layout-color1);
  color: var(--jp-ui-font-color1);
  font-size: var(--jp-ui-font-size1);
  min-width: 240px;
}

.kf-lab-header {
  display: flex;
  align-items: center;
  justify-content: space-between;
  padding: 8px 10px 4px;
}

.kf-lab-title {
  font-weight: 600;
  font-size: var(--jp-ui-font-size2);
}

.kf-lab-picker {
  display: flex;
  align-items: center;
  gap: 6px;
  padding: 4px 10px 8px;
  color: var(--jp-ui-font-color2);
}

.kf-lab-picker select {
  flex: 1;
  min-width: 0;
}

.kf-lab-status {
  padding: 0 10px;
  color: var(--jp-ui-font-color2);
}

.kf-lab-runs {
  list-style: none;
  margin: 0;
  padding: 0;
  overflow-y: auto;
  flex: 1;
}

.kf-lab-run {
  padding: 6px 10px;
  border-bottom: 1px solid var(--jp-border-color2);
  cursor: pointer;
}

.kf-lab-run:hover,
.kf-lab-run:focus {
  background: var(--jp-layout-color2);
  outline: none;
}

.kf-lab-run-head {
  display: flex;
  align-items: center;
  gap: 6px;
}

.kf-lab-run-name {
  flex: 1;
  overflow: hidden;
  text-overflow: ellipsis;
  white-space: nowrap;
  color: var(--jp-brand-color1);
}

.kf-lab-run-duration {
  color: var(--jp-ui-font-color2);
  font-variant-numeric: tabular-nums;
}

.kf-lab-run-metrics {
  display: flex;
  flex-wrap: wrap;
  gap: 2px 10px;
  padding-left: 16px;
  color: var(--jp-ui-font-color2);
  font-variant-numeric: tabular-nums;
}

.kf-lab-dot {
  display: inline-block;
  flex: none;
  width: 9px;
  height: 9px;
  border-radius: 50%;
  background: #9e9e9e;
}

.kf-lab-dot.kf-lab-running {
  background: #1565c0;
  animation: kf-lab-pulse 1.2s ease-in-out infinite;
}

.kf-lab-dot.kf-lab-finished {
  background: #2e7d32;
}

.kf-lab-dot.kf-lab-failed {
  background: #c62828;
}

.kf-lab-dot.kf-lab-killed {
  background: #ef6c00;
}

.kf-lab-empty {
  padding: 10px;
  color: var(--jp-ui-font-color2);
}

@keyframes kf-lab-pulse {
  50% {
    opacity: 0.35;
  }
}
`,""]),r.d(n,{},{A:i})},314(e){e.exports=function(e){var n=[];return n.toString=function(){return this.map(function(n){var r="",t=void 0!==n[5];return n[4]&&(r+="@supports (".concat(n[4],") {")),n[2]&&(r+="@media ".concat(n[2]," {")),t&&(r+="@layer".concat(n[5].length>0?" ".concat(n[5]):""," {")),r+=e(n),t&&(r+="}"),n[2]&&(r+="}"),n[4]&&(r+="}"),r}).join("")},n.i=function(e,r,t,a,o){"string"==typeof e&&(e=[[null,e,void 0]]);var i={};if(t)for(var l=0;l<this.length;l++){var c=this[l][0];null!=c&&(i[c]=!0)}for(var s=0;s<e.length;s++){var p=[].concat(e[s]);t&&i[p[0]]||(void 0!==o&&(void 0===p[5]||(p[1]="@layer".concat(p[5].length>0?" ".concat(p[5]):""," {").concat(p[1],"}")),p[5]=o),r&&(p[2]&&(p[1]="@media ".concat(p[2]," {").concat(p[1],"}")),p[2]=r),a&&(p[4]?(p[1]="@supports (".concat(p[4],") {").concat(p[1],"}"),p[4]=a):p[4]="".concat(a)),n.push(p))}},n}},601(e){e.exports=function(e){return e[1]}},72(e){var n=[];function r(e){for(var r=-1,t=0;t<n.length;t++)if(n[t].identifier===e){r=t;break}return r}function t(e,t){for(var a={},o=[],i=0;i<e.length;i++){var l=e[i],c=t.base?l[0]+t.base:l[0],s=a[c]||0,p="".concat(c," ").concat(s);a[c]=s+1;var u=r(p),f={css:l[1],media:l[2],sourceMap:l[3],supports:l[4],layer:l[5]};if(-1!==u)n[u].references++,n[u].updater(f);else{var d=function(e,n){var r=n.domAPI(n);return r.update(e),function(n){n?(n.css!==e.css||n.media!==e.media||n.sourceMap!==e.sourceMap||n.supports!==e.supports||n.layer!==e.layer)&&r.update(e=n):r.remove()}}(f,t);t.byIndex=i,n.splice(i,0,{identifier:p,updater:d,references:1})}o.push(p)}return o}e.exports=function(e,a){var o=t(e=e||[],a=a||{});return function(e){e=e||[];for(var i=0;i<o.length;i++){var l=r(o[i]);n[l].references--}for(var c=t(e,a),s=0;s<o.length;s++){var p=r(o[s]);0===n[p].references&&(n[p].updater(),n.splice(p,1))}o=c}}},659(e){var n={};e.exports=function(e,r){var t=function(e){if(void 0===n[e]){var r=document.querySelector(e);if(window.HTMLIFrameElement&&r instanceof window.HTMLIFrameElement)try{r=r.contentDocument.head}catch(e){r=null}n[e]=r}return n[e]}(e);if(!t)throw Error("Couldn't find a style target. This probably means that the value for the 'insert' parameter is invalid.");t.appendChild(r)}},540(e){e.exports=function(e){var n=document.createElement("style");return e.setAttributes(n,e.attributes),e.insert(n,e.options),n}},56(e,n,r){e.exports=function(e){var n=r.nc;n&&e.setAttribute("nonce",n)}},825(e){e.exports=function(e){if("u"<typeof document)return{update:function(){},remove:function(){}};var n=e.insertStyleElement(e);return{update:function(r){var t,a,o;t="",r.supports&&(t+="@supports (".concat(r.supports,") {")),r.media&&(t+="@media ".concat(r.media," {")),(a=void 0!==r.layer)&&(t+="@layer".concat(r.layer.length>0?" ".concat(r.layer):""," {")),t+=r.css,a&&(t+="}"),r.media&&(t+="}"),r.supports&&(t+="}"),(o=r.sourceMap)&&"u">typeof btoa&&(t+="\n/*# sourceMappingURL=data:application/json;base64,".concat(btoa(unescape(encodeURIComponent(JSON.stringify(o))))," */")),e.styleTagTransform(t,n,e.options)},remove:function(){var e;null===(e=n).parentNode||e.parentNode.removeChild(e)}}}},113(e){e.exports=function(e,n){if(n.styleSheet)n.styleSheet.cssText=e;else{for(;n.firstChild;)n.removeChild(n.firstChild);n.appendChild(document.createTextNode(e))}}},579(e,n,r){var t=r(72),a=r.n(t),o=r(825),i=r.n(o),l=r(659),c=r.n(l),s=r(56),p=r.n(s),u=r(540),f=r.n(u),d=r(113),b=r.n(d),v=r(475),m={};m.styleTagTransform=b(),m.setAttributes=p(),m.insert=c().bind(null,"head"),m.domAPI=i(),m.insertStyleElement=f(),a()(v.A,m),v.A&&v.A.locals&&v.A.locals}}]);